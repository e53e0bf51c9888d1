"""Page shells and benign content: the HTML, JSON and text around what a
response carries, in the variety real sites have."""
import datetime
import html
import json

CSS = ["body{font-family:system-ui,sans-serif;margin:0}", "main{max-width:960px;margin:auto}",
       ".nav a{padding:0 8px}", "table{border-collapse:collapse}td,th{padding:4px 8px}"]


def html_page(rng, title, body, fake):
    nav = "".join(f'<a href="/{w}">{w.title()}</a>' for w in rng.sample(
        ["home", "products", "pricing", "blog", "docs", "about", "contact", "careers", "support", "account"], 5))
    head = (f'<!DOCTYPE html>\n<html lang="{rng.choice(["en", "en-US", "de", "fr"])}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{html.escape(title)}</title>\n'
            f'<link rel="stylesheet" href="/static/css/main.{rng.randrange(16**8):08x}.css">\n')
    if rng.random() < 0.5:
        head += "<style>" + "".join(rng.sample(CSS, 2)) + "</style>\n"
    if rng.random() < 0.4:
        head += f'<script async src="https://www.googletagmanager.com/gtag/js?id=G-{rng.randrange(16**10):010X}"></script>\n'
    foot = f'<footer><p>&copy; {rng.randint(2015, 2026)} {html.escape(fake.company())}. All rights reserved.</p></footer>'
    return (head + f'</head>\n<body>\n<header class="nav"><a class="logo" href="/">{html.escape(fake.company())}</a>{nav}</header>\n'
            f'<main>\n<h1>{html.escape(title)}</h1>\n{body}\n</main>\n{foot}\n'
            f'<script src="/static/js/app.{rng.randrange(16**8):08x}.js"></script>\n</body>\n</html>\n')


def dumps(rng, obj):
    return json.dumps(obj, indent=rng.choice([None, None, 2]), ensure_ascii=False)


def paragraphs(rng, fake, n):
    return "\n".join(f"<p>{html.escape(fake.paragraph(nb_sentences=rng.randint(3, 8)))}</p>" for _ in range(n))


def product(rng, fake):
    return {"id": rng.randrange(10**6), "sku": f"{fake.bothify('??-####').upper()}", "name": fake.catch_phrase(),
            "price": round(rng.uniform(2, 900), 2), "currency": rng.choice(["USD", "EUR", "GBP"]),
            "in_stock": rng.random() < 0.8, "rating": round(rng.uniform(1, 5), 1), "reviews": rng.randrange(5000),
            "image": f"https://cdn.{fake.domain_name()}/img/{rng.randrange(16**12):012x}@2x.jpg"}


def masked_card(rng):
    last4 = f"{rng.randrange(10000):04d}"
    return rng.choice([f"**** **** **** {last4}", f"•••• {last4}", f"XXXX-XXXX-XXXX-{last4}", f"ending in {last4}"])


# Dates come from the passed RNG, never from Faker's date providers, which
# are relative to today and would make the corpus depend on the day it is
# built.
_EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def dt(rng):
    return _EPOCH - datetime.timedelta(seconds=rng.randrange(6 * 365 * 86400))


def iso(rng):
    return dt(rng).isoformat()


def day(rng):
    return dt(rng).date().isoformat()


def dob(rng):
    return (_EPOCH - datetime.timedelta(days=rng.randrange(18 * 365, 90 * 365))).date()
