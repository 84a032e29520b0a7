DO $x$ BEGIN PERFORM 1; END $x$;
CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.a := 'x;'; RETURN NEW; END$$;
SELECT $tag$;$tag$, $$ ' $$;
ALTER TABLE users ADD COLUMN z int NOT NULL;