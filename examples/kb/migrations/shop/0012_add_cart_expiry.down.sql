DROP INDEX carts_expires_at_idx;
ALTER TABLE carts DROP COLUMN expires_at;
