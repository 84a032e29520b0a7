-- wesley-lint: ignore whole-table-update
UPDATE t SET c = 1;
CREATE INDEX CONCURRENTLY t_c ON t (c);
CREATE INDEX t_d ON t (d);
