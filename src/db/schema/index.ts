export * from './profile';
export * from './tags';
export * from './commerce';
export * from './service';
export * from './admin';
export * from './segments';
export * from './ingest';
