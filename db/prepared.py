"""INSERTs on the hot path with their SQL written once, not rebuilt by the ORM per row.

peewee builds every query from an expression tree; for the two rows each inbound mail
writes (the stored mail, its reply) that was a third of the processing time. The
statement text is made once per database engine; values still go through each
field's `db_value`, so they are stored exactly as `Model.create` would store them.
"""
from __future__ import annotations

from . import database


def prepared_insert(model):
    """A function that inserts one `model` row from keyword values; the new id.
    Fields not given get their model default, as `Model.create` would give them."""
    fields = [field for field in model._meta.sorted_fields if field is not model._meta.primary_key]
    statements: dict[type, str] = {}

    def insert(**values) -> int:
        engine = database.obj
        sql = statements.get(type(engine))
        if sql is None:
            sql = statements[type(engine)] = _statement(engine, model, fields)
        cursor = database.execute_sql(sql, [field.db_value(values[field.name] if field.name in values
                                                           else _default(field)) for field in fields])
        return cursor.fetchone()[0] if engine.returning_clause else cursor.lastrowid

    return insert


def _default(field):
    return field.default() if callable(field.default) else field.default


def _statement(engine, model, fields) -> str:
    open_quote, close_quote = engine.quote[0], engine.quote[-1]

    def name(text: str) -> str:
        return f"{open_quote}{text}{close_quote}"

    columns = ", ".join(name(field.column_name) for field in fields)
    marks = ", ".join([engine.param] * len(fields))
    sql = f"INSERT INTO {name(model._meta.table_name)} ({columns}) VALUES ({marks})"
    if engine.returning_clause:
        sql += f" RETURNING {name(model._meta.primary_key.column_name)}"
    return sql
