WITH x AS (DELETE FROM t RETURNING *) INSERT INTO "Orders" SELECT * FROM x ON CONFLICT (id) DO UPDATE SET "Total" = excluded."Total" RETURNING *, "Orders".*;
UPDATE users SET email = u2.email FROM users u2 WHERE u2.id = users.id RETURNING users;
DELETE FROM "select" USING t WHERE "select"."where" = t.a;
MERGE INTO t USING users u ON t.a = u.email WHEN MATCHED THEN UPDATE SET b = u."MixedCase" WHEN NOT MATCHED THEN INSERT VALUES (u.id, u."Created At");
INSERT INTO t DEFAULT VALUES; UPDATE t SET (a, b) = (SELECT email, id FROM users LIMIT 1);
COPY t (a) FROM STDIN; COPY (SELECT * FROM users) TO STDOUT;
SELECT "from", "where" FROM "select" NATURAL JOIN t, LATERAL (SELECT t.a) l(z), generate_series(1, 3) g, ROWS FROM (f(1)) AS r;
SELECT * FROM users u JOIN LATERAL unnest(ARRAY[u.id]) WITH ORDINALITY AS x(v, n) ON true;
TABLE users; VALUES (1), (2);