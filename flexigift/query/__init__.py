"""The collection query layer: limit, offset, filters, order, fields and zoom,
turned into one peewee query for the page, one for the count and one per
zoomed relation, whatever the page size.
"""
