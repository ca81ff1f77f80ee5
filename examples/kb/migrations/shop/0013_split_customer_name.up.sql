ALTER TABLE customers ADD COLUMN given_name text, ADD COLUMN family_name text;
UPDATE customers SET given_name = split_part(name, ' ', 1), family_name = substr(name, length(split_part(name, ' ', 1)) + 2);
ALTER TABLE customers DROP COLUMN name;
