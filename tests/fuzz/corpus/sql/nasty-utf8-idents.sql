SELECT "Ünïcödé", "日本" FROM users; ALTER TABLE "Orders" ADD CONSTRAINT "ç" CHECK ("Total" > 0);
SELECT oops FROM