"""What gunicorn serves and `flask --app wsgi` runs."""

from service.factory import create_app

app = create_app()
