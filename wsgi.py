"""What gunicorn serves and `flask --app wsgi` runs."""

from service.app import create_app

app = create_app()
