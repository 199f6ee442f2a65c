-- Hand-written: reference data every installation needs.
INSERT INTO tag_categories (key, name, description) VALUES
  ('BASIC', 'Basic information', 'Demographics and location: age band, gender, region, occupation.'),
  ('BEHAVIOR', 'Behaviour', 'What the customer does: purchase frequency, spend, preferred channel.'),
  ('INTEREST', 'Interests and preferences', 'Product categories, brands and topics the customer cares about.'),
  ('LIFECYCLE', 'Lifecycle stage', 'Where the customer is: new, active, at risk, lost.'),
  ('VALUE', 'Value', 'Customer value tiers: high value, potential, churned.'),
  ('CUSTOM', 'Custom', 'Team-specific tags that fit no other category.')
ON CONFLICT (key) DO NOTHING;
--> statement-breakpoint
-- Reference exchange rates to USD (1 unit of currency = rate USD). Cross rates for another
-- BASE_CURRENCY are derived through USD by the commerce repository. Load fresher rates with
-- the currency_rates table; the latest row valid on a transaction's day is used.
INSERT INTO currency_rates (currency, base_currency, valid_from, rate) VALUES
  ('USD', 'USD', '2000-01-01', 1),
  ('EUR', 'USD', '2000-01-01', 1.0850),
  ('GBP', 'USD', '2000-01-01', 1.2700),
  ('JPY', 'USD', '2000-01-01', 0.0067),
  ('CNY', 'USD', '2000-01-01', 0.1380),
  ('CAD', 'USD', '2000-01-01', 0.7350),
  ('AUD', 'USD', '2000-01-01', 0.6600),
  ('BRL', 'USD', '2000-01-01', 0.1950),
  ('INR', 'USD', '2000-01-01', 0.0120),
  ('MXN', 'USD', '2000-01-01', 0.0560),
  ('CHF', 'USD', '2000-01-01', 1.1300),
  ('SEK', 'USD', '2000-01-01', 0.0950),
  ('KRW', 'USD', '2000-01-01', 0.00075)
ON CONFLICT DO NOTHING;
