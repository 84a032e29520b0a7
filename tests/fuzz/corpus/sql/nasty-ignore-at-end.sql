SELECT 1;
-- wesley-lint: ignore all