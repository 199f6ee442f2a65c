export * from './profile';
export * from './tags';
export * from './commerce';
export * from './service';
export * from './admin';
export * from './ingest';
