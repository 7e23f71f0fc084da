"""sqlite: writes the SQL script that bench/run feeds to sqlite3.

The script creates a table, inserts ROWS rows in one transaction (one
INSERT statement each, so sqlite3 parses and prepares every one), creates
two indexes, updates and deletes some rows, and runs aggregate, join and
sort queries.  sqlite3 takes all its memory from malloc (page cache,
parser, prepared statements, sorter), and the database is :memory:, so the
disk plays no part.  Everything is deterministic; bench/run compares the
output with a glibc run.

usage: python3 sqlite_gen.py [ROWS=100000] > workload.sql
"""
import sys


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    out = sys.stdout
    w = out.write
    w("PRAGMA cache_size = -65536;\n")
    w("CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, "
      "price INTEGER, note TEXT);\n")
    w("CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT);\n")
    w("BEGIN;\n")
    x = 1
    for i in range(1, rows + 1):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        grp = x % 97
        name = "item-%07d-%05x" % (i, x % 0xFFFFF)
        note = "n" * (x % 61) + "%d" % (x % 9973)
        w("INSERT INTO item VALUES(%d,%d,'%s',%d,'%s');\n" % (i, grp, name, x % 100000, note))
    for g in range(97):
        w("INSERT INTO grp VALUES(%d,'group %d');\n" % (g, g))
    w("COMMIT;\n")
    w("CREATE INDEX item_grp ON item(grp, price);\n")
    w("CREATE INDEX item_name ON item(name);\n")
    w("UPDATE item SET price = price + 1 WHERE id % 3 = 0;\n")
    w("DELETE FROM item WHERE id % 11 = 0;\n")
    w("SELECT count(*), sum(price), min(name), max(name), sum(length(note)) FROM item;\n")
    w("SELECT grp, count(*), sum(price), avg(length(note)) FROM item "
      "GROUP BY grp ORDER BY grp LIMIT 20;\n")
    w("SELECT g.label, count(*), max(i.price) FROM item i JOIN grp g ON g.id = i.grp "
      "WHERE i.price > 50000 GROUP BY g.label ORDER BY 2 DESC, 1 LIMIT 10;\n")
    w("SELECT id, name FROM item ORDER BY note DESC, id LIMIT 10;\n")
    w("SELECT count(DISTINCT note), count(DISTINCT price) FROM item;\n")
    w("SELECT name FROM item WHERE name LIKE 'item-00001%' ORDER BY name LIMIT 5;\n")
    w("SELECT grp, group_concat(id, ',') FROM (SELECT grp, id FROM item "
      "WHERE price < 200 ORDER BY id) GROUP BY grp ORDER BY grp LIMIT 5;\n")


main()
