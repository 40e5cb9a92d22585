#!/usr/bin/env python3
"""Grows a secrets service's SQLite store to TOTAL sites for bench/growth.sh: each new site
`filler-N` is a copy of the site `bench`'s row (its own name and UUID) holding one secret, a copy of
bench's SECRET_0 rows (sealed for bench, so it never opens elsewhere: no one reads it; it only makes
the tables as large as a store of that many sites). Written straight into the database, as
creating 100,000 sites through the CLI would take hours; the service keeps running meanwhile (WAL).

usage: fill-sites.py DATABASE TOTAL
"""
import sqlite3
import sys
import uuid


def columns(db, table):
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def copy_rows(db, table, where, replace, count):
    """Inserts `count` copies of the rows of `table` matching `where`, with the columns of `replace`
    (name -> function of the copy's number) changed."""
    cols = columns(db, table)
    rows = db.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE {where}").fetchall()
    if not rows:
        sys.exit(f"fill-sites: no row of {table} where {where}")
    marks = ", ".join("?" for _ in cols)
    for n in count:
        for row in rows:
            values = [replace[c](n) if c in replace else v for c, v in zip(cols, row)]
            db.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", values)


def main():
    path, total = sys.argv[1], int(sys.argv[2])
    db = sqlite3.connect(path, timeout=30)
    have = db.execute("SELECT count(*) FROM sites").fetchone()[0]
    if have >= total:
        return
    start = db.execute("SELECT count(*) FROM sites WHERE name LIKE 'filler-%'").fetchone()[0]
    numbers = range(start, start + total - have)
    bench_uuid = db.execute("SELECT uuid FROM sites WHERE name = 'bench'").fetchone()[0]
    owner = db.execute("SELECT owner FROM secrets WHERE owner_kind = 'site' AND name = 'SECRET_0'").fetchone()[0]
    by_uuid = owner == bench_uuid
    uuids = {n: str(uuid.uuid4()) for n in numbers}
    name = lambda n: f"filler-{n}"
    with db:
        copy_rows(db, "sites", "name = 'bench'", {"name": name, "uuid": lambda n: uuids[n]}, numbers)
        owner_of = (lambda n: uuids[n]) if by_uuid else name
        where = f"owner_kind = 'site' AND owner = '{owner}' AND name = 'SECRET_0'"
        copy_rows(db, "secrets", where, {"owner": owner_of}, numbers)
        copy_rows(db, "secret_values", where, {"owner": owner_of}, numbers)


if __name__ == "__main__":
    main()
