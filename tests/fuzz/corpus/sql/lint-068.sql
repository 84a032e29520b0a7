-- wesley-lint: ignore whole-table-update
UPDATE t