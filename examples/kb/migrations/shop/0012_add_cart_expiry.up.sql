ALTER TABLE carts ADD COLUMN expires_at timestamptz NOT NULL DEFAULT now() + interval '7 days';
CREATE INDEX carts_expires_at_idx ON carts (expires_at);
