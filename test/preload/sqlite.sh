#!/bin/bash
# sqlite3 on a generated workload (fixed-seed awk): three tables, 100k order
# rows inserted in one transaction, indexes, aggregates, joins, ORDER BY, GROUP
# BY, window functions, a recursive CTE, JSON, updates and deletes, VACUUM and
# integrity checks, on a file database with in-memory temp storage.  The query
# output must match glibc's.
# Usage: test/preload/sqlite.sh /path/to/libmalloc.so
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
pl_init "$@"
pl_need sqlite3 sqlite3

# --- the generated data: lib.sh's seeded generator ---
awk -v seed=4242 -v ncust=10000 -v nprod=1000 -v norders=100000 "$PL_AWK_WORDS"'
BEGIN {
	x = seed
	split("north south east west centre", region, " ")
	print "PRAGMA temp_store = memory;"
	print "CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL, region TEXT, email TEXT, notes TEXT);"
	print "CREATE TABLE product (id INTEGER PRIMARY KEY, title TEXT, price REAL, category INTEGER, blob_data BLOB);"
	print "CREATE TABLE orders (id INTEGER PRIMARY KEY, cust INTEGER REFERENCES customer, prod INTEGER REFERENCES product, qty INTEGER, day INTEGER, comment TEXT);"
	print "BEGIN;"
	for (i = 1; i <= ncust; i++) {
		notes = ""
		if (rnd(4) == 0) notes = word(20, 300)
		printf "INSERT INTO customer VALUES (%d, %c%s %s%c, %c%s%c, %c%s@%s.example%c, %c%s%c);\n",
			i, 39, word(3, 10), word(4, 12), 39, 39, region[1 + rnd(5)], 39, 39, word(3, 8), word(3, 6), 39, 39, notes, 39
	}
	for (i = 1; i <= nprod; i++)
		printf "INSERT INTO product VALUES (%d, %c%s%c, %d.%02d, %d, zeroblob(%d));\n",
			i, 39, word(5, 40), 39, rnd(500), rnd(100), rnd(30), rnd(3000)
	for (i = 1; i <= norders; i++) {
		c = ""
		if (rnd(3) == 0) c = word(1, 60)
		printf "INSERT INTO orders VALUES (%d, %d, %d, %d, %d, %c%s%c);\n",
			i, 1 + rnd(ncust), 1 + rnd(nprod), 1 + rnd(20), rnd(3650), 39, c, 39
	}
	print "COMMIT;"
}' >"$TMP/data.sql"

cat >"$TMP/queries.sql" <<'EOF'
.headers on
.mode list
SELECT count(*), sum(qty), min(day), max(day), round(avg(qty), 6) FROM orders;
SELECT count(*), count(DISTINCT region), sum(length(notes)), max(length(name)) FROM customer;
-- a big sort without an index, checked through an order-sensitive checksum
SELECT sum(rn * (id % 1009)) AS sortsum FROM
  (SELECT id, row_number() OVER (ORDER BY comment DESC, qty, id) AS rn FROM orders);
SELECT sum(rn * (id % 1009)) AS sortsum2 FROM
  (SELECT id, row_number() OVER (ORDER BY name, id) AS rn FROM customer);
CREATE INDEX orders_cust ON orders(cust);
CREATE INDEX orders_prod_day ON orders(prod, day);
CREATE INDEX customer_region_name ON customer(region, name);
CREATE UNIQUE INDEX product_title_id ON product(title, id);
-- GROUP BY, joins, ORDER BY
SELECT c.region, count(*) AS n, sum(o.qty) AS q, round(sum(o.qty * p.price), 2) AS revenue
  FROM orders o JOIN customer c ON c.id = o.cust JOIN product p ON p.id = o.prod
  GROUP BY c.region ORDER BY revenue DESC;
SELECT p.category, count(DISTINCT o.cust) AS buyers, max(o.qty), round(avg(p.price), 4)
  FROM orders o JOIN product p ON p.id = o.prod GROUP BY p.category ORDER BY p.category;
SELECT c.id, c.name, count(o.id) AS n, sum(o.qty) AS q FROM customer c
  LEFT JOIN orders o ON o.cust = c.id GROUP BY c.id ORDER BY q DESC, c.id LIMIT 25;
SELECT day / 365 AS year, count(*), sum(qty) FROM orders GROUP BY year ORDER BY year;
SELECT id, title, price FROM product ORDER BY price DESC, title, id LIMIT 15 OFFSET 30;
-- window functions and string functions
SELECT cust, day, qty, running FROM (
  SELECT cust, day, qty, sum(qty) OVER (PARTITION BY cust ORDER BY day, id) AS running,
         row_number() OVER (PARTITION BY cust ORDER BY day DESC, id) AS r
  FROM orders WHERE cust % 997 = 1) WHERE r <= 3 ORDER BY cust, day;
SELECT region, length(group_concat(name, ',')) AS len, upper(substr(min(name), 1, 5)),
       sum(email LIKE '%a%') FROM customer GROUP BY region ORDER BY region;
SELECT count(*), sum(length(replace(comment, 'a', 'xyz'))), sum(instr(comment, 'q') > 0)
  FROM orders WHERE comment <> '';
-- recursive CTE and JSON
WITH RECURSIVE seq(n, s) AS (SELECT 1, 'x' UNION ALL
  SELECT n + 1, substr(s || printf('%d,', n * n), -200) FROM seq WHERE n < 20000)
SELECT count(*), sum(length(s)), max(s) FROM seq;
SELECT length(j), json_array_length(j) FROM
  (SELECT json_group_array(json_object('id', id, 'n', name, 'r', region)) AS j FROM customer);
SELECT json_extract(value, '$.n') FROM json_each(
  (SELECT json_group_array(json_object('id', id, 'n', name)) FROM customer WHERE id % 1000 = 7));
-- updates and deletes, then the same aggregates again
UPDATE orders SET qty = qty * 2, comment = comment || '-upd' WHERE day % 7 = 3;
UPDATE customer SET notes = printf('%.*c', id % 500, 'n') WHERE id % 5 = 0;
DELETE FROM orders WHERE qty > 30 AND prod % 3 = 0;
DELETE FROM product WHERE id NOT IN (SELECT prod FROM orders);
INSERT INTO orders (cust, prod, qty, day, comment)
  SELECT cust, prod, qty + 1, day + 1, 'copy' || id FROM orders WHERE id % 10 = 0;
SELECT changes(), total_changes() > 0;
SELECT count(*), sum(qty), sum(length(comment)) FROM orders;
SELECT count(*), sum(length(notes)) FROM customer;
SELECT count(*) FROM product;
PRAGMA integrity_check;
VACUUM;
PRAGMA integrity_check;
SELECT count(*), sum(qty) FROM orders INDEXED BY orders_cust WHERE cust BETWEEN 100 AND 5000;
SELECT sum(rn * (id % 1009)) AS sortsum3 FROM
  (SELECT id, row_number() OVER (ORDER BY comment, day DESC, id) AS rn FROM orders);
SELECT c.region, count(*) FROM orders o JOIN customer c ON c.id = o.cust
  GROUP BY c.region HAVING count(*) > 1000 ORDER BY 2 DESC, 1;
-- an in-memory copy: every page of it lives in malloc'd memory
ATTACH ':memory:' AS mem;
CREATE TABLE mem.o AS SELECT * FROM orders ORDER BY comment, id;
CREATE INDEX mem.o_day ON o(day, qty);
SELECT count(*), sum(qty), sum(length(comment)) FROM mem.o;
SELECT day, count(*), sum(qty) FROM mem.o GROUP BY day ORDER BY count(*) DESC, day LIMIT 5;
DELETE FROM mem.o WHERE id % 2 = 0;
SELECT count(*), sum(rn * (id % 1009)) FROM
  (SELECT id, row_number() OVER (ORDER BY day, qty, id) AS rn FROM mem.o);
DETACH mem;
EOF

workload() {
	sqlite3 -bail test.db <"$TMP/data.sql"
	sqlite3 -bail test.db <"$TMP/queries.sql"
	sqlite3 -bail test.db 'PRAGMA page_count;' 'PRAGMA freelist_count;' .sha3sum
}

pl_compare workload
