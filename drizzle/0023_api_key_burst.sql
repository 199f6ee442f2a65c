-- API keys carry a burst (requests at once, `npm run apikey -- create --burst N`); null = min(their rate, RATE_LIMIT_BURST).
ALTER TABLE "api_keys" ADD COLUMN "rate_limit_burst" integer;