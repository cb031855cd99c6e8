"""The WSGI entry point: ``gunicorn -w 4 --threads 16 wsgi:app`` (configure with DATABASE_URL)."""
from flexigift.serving import production_app

app = production_app()
