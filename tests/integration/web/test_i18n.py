"""German and English pages: every marked text has its German translation, the language switch changes the
page and is remembered (per user in the database, in a cookie before sign-in), the browser's language is the
default."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from tests.integration.pages import PageClient

from painguide.demo import DEMO_PASSWORD
from painguide.i18n import LANGUAGES
from painguide.web.i18n import COOKIE, catalogue_path

REPO = Path(__file__).resolve().parents[3]
SignIn = Callable[[TestClient, str], None]


def extracted_messages(root: Path, mapping: Path) -> dict[str, list[str]]:
    """Every message id marked in ``root`` by the rules of ``mapping`` (babel.cfg), with its files."""
    with mapping.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, list[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(root, method_map, options_map):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, []).append(filename)
    return found


def untranslated(messages: dict[str, list[str]], catalog: Catalog) -> list[str]:
    """Message ids without a usable translation (absent, empty or fuzzy), each with where it is used."""
    problems = []
    for msgid, files in sorted(messages.items()):
        entry = catalog.get(msgid)
        if entry is None or not entry.string or entry.fuzzy:
            problems.append(f"{msgid!r} (used in {', '.join(sorted(set(files)))})")
    return problems


def error_templates(root: Path) -> dict[str, list[str]]:
    """Every message marked with ``N_`` in a module under ``root`` that raises or builds a
    ``ValidationError`` (its message templates, pydantic's error templates, the records' own checks), with
    its files; and ``direct``, how many ``ValidationError(field, N_("..."))`` calls there are."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "ValidationError" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "N_":
                text = node.args[0]
                if isinstance(text, ast.Constant) and isinstance(text.value, str):
                    found.setdefault(text.value, []).append(str(path.relative_to(root)))
    return found


def direct_error_templates(root: Path) -> int:
    """How many ``ValidationError(field, N_("..."))`` calls the modules under ``root`` make."""
    count = 0
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "ValidationError"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Call)
                and isinstance(node.args[1].func, ast.Name)
                and node.args[1].func.id == "N_"
            ):
                count += 1
    return count


def _catalog(language: str) -> Catalog:
    with catalogue_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def test_every_marked_text_has_a_german_translation() -> None:
    messages = extracted_messages(REPO, REPO / "babel.cfg")
    assert len(messages) > 200  # the pages' texts were found (an empty extraction proves nothing)
    missing = untranslated(messages, _catalog("de"))
    assert not missing, (
        "German translation missing; run `make messages` and translate in "
        "src/painguide/web/locale/de/LC_MESSAGES/messages.po (docs/i18n.md):\n" + "\n".join(missing)
    )
    english = _catalog("en")
    absent_en = sorted(m for m in messages if m not in english)
    assert not absent_en, f"run `make messages`: not in the English catalogue: {absent_en}"


def test_every_marked_error_message_has_a_german_translation() -> None:
    source = REPO / "src" / "painguide"
    templates = error_templates(source)
    assert direct_error_templates(source) > 80  # the raise sites were found (an empty scan proves nothing)
    assert "must be a whole number" in templates and "give 1-%(max)s" in templates
    missing = untranslated(templates, _catalog("de"))
    assert not missing, "German translation of an error message missing (docs/i18n.md):\n" + "\n".join(
        missing
    )


def test_the_error_check_finds_an_untranslated_message(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(
        "from painguide.errors import ValidationError\n"
        "from painguide.i18n.marks import N_\n"
        'raise ValidationError("egfr", N_("give the date of the eGFR value"))\n'
        'raise ValidationError("dose", N_("a message nobody translated: %(value)s"), value=1)\n'
    )
    (tmp_path / "other.py").write_text('N_("marked, but not an error message")\n')
    templates = error_templates(tmp_path)
    assert set(templates) == {"give the date of the eGFR value", "a message nobody translated: %(value)s"}
    assert direct_error_templates(tmp_path) == 2
    missing = untranslated(templates, _catalog("de"))
    assert missing == ["'a message nobody translated: %(value)s' (used in probe.py)"]


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_translations_keep_their_placeholders(language: str) -> None:
    errors = [f"{m.id!r}: {e}" for m, problems in _catalog(language).check() for e in problems]
    assert not errors, "\n".join(errors)


def test_the_check_finds_a_text_without_translation(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "probe.html").write_text(
        '<p>{{ _("Sign in") }} {{ _("A sentence nobody translated") }}</p>', encoding="utf-8"
    )
    (tmp_path / "probe.py").write_text('_("username or password is wrong")\n_("Another new message")\n')
    mapping = tmp_path / "babel.cfg"
    mapping.write_text("[python: **.py]\n[jinja2: templates/**.html]\nsilent = false\n")
    messages = extracted_messages(tmp_path, mapping)
    assert set(messages) == {
        "Sign in",
        "A sentence nobody translated",
        "username or password is wrong",
        "Another new message",
    }
    missing = untranslated(messages, _catalog("de"))
    assert [m.split(" (")[0] for m in missing] == ["'A sentence nobody translated'", "'Another new message'"]


def test_switching_language_changes_the_page_and_is_remembered(
    demo_client: TestClient, sign_in: SignIn
) -> None:
    client = demo_client
    sign_in(client, "physician")
    page = client.get("/").text
    assert '<html lang="en">' in page and "Procedure catalogue" in page
    r = client.post("/language", data={"language": "de", "next": "/?region=lumbar"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?region=lumbar"
    page = client.get("/?region=lumbar").text
    assert '<html lang="de">' in page and "Eingriffskatalog" in page and "Procedure catalogue" not in page
    assert "die Ärztin oder der Arzt entscheidet" in page
    assert "Lumbale Medial-Branch-Blockade" in page  # the catalogue's German procedure name leads

    # a new browser without the cookie: the choice was stored for the user
    with PageClient(client.app) as other:  # sends the CSRF token, as the page does
        sign_in(other, "physician")
        assert '<html lang="de">' in other.get("/advise", headers={"accept-language": "en"}).text
        other.post("/language", data={"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/").text  # the stored choice wins over the older cookie
    sign_in(client, "admin")
    audit = client.get("/audit").text
    assert audit.count("user.language") == 2


def test_browser_language_is_the_default_and_cookie_keeps_the_choice_before_sign_in(
    demo_client: TestClient,
) -> None:
    client = demo_client
    assert "Benutzername" in client.get("/login", headers={"accept-language": "de-CH,de;q=0.9"}).text
    assert "Username" in client.get("/login", headers={"accept-language": "fr-FR,fr;q=0.9"}).text
    r = client.post("/language", data={"language": "de", "next": "/login"}, follow_redirects=False)
    assert r.status_code == 303 and client.cookies.get(COOKIE) == "de"
    page = client.get("/login", headers={"accept-language": "en"}).text
    assert "Anmelden" in page and "Demo-Modus" in page
    r = client.post("/login", data={"username": "physician", "password": "wrong-password"})
    assert r.status_code == 401 and "Benutzername oder Passwort ist falsch" in r.text
    r = client.post("/login", data={"username": "physician", "password": DEMO_PASSWORD})
    assert "Eingriffskatalog" in r.text  # no stored choice yet: the cookie's language goes on


def test_language_switch_refuses_unknown_languages_and_foreign_targets(demo_client: TestClient) -> None:
    r = demo_client.post("/language", data={"language": "xx"})
    assert r.status_code == 422
    assert r.json() == {
        "error": "validation",
        "detail": [{"field": "language", "message": "'xx' is not offered; choose one of de, en"}],
    }
    r = demo_client.post(
        "/language", data={"language": "en", "next": "//evil.example/"}, follow_redirects=False
    )
    assert r.headers["location"] == "/"


GERMAN_PAGES = [
    ("/", "Blutungsrisiko (ASRA)"),
    ("/procedures/lumbar-tfesi", "Grundbewertung"),
    ("/advise?procedure=cervical-facet-mbb&pregnant=on&drug=apixaban", "Antikoagulationsplan"),
    ("/dose/", "Lokale diagnostische Referenzwerte (DRW"),
    ("/dose/reports", "Eingriffsart"),
    ("/dose/alerts", "1 Alarm, neueste zuerst, Seite 1 von 1."),  # the demo's one alert, in the singular
    ("/dose/reports/1", "Dosisflächenprodukt (DFP) gesamt"),
    ("/sono/live", "Live-Sitzungen"),
    ("/sono/review", "Gespeicherte Auswertungen"),
    ("/sono/review/1", "Schlüsselbilder"),
    ("/audit", "Audit-Trail (Prüfprotokoll)"),
    ("/links", "Nicht verknüpfte Dosisberichte und Cines"),
    ("/advise?procedure=knee-ia&egfr=abc", "Modalitätsempfehlung", 422),  # the form with the field's error
]


def test_every_page_speaks_german(demo_client: TestClient, sign_in: SignIn) -> None:
    sign_in(demo_client, "admin")
    wrong = []
    for path, german, *status in GERMAN_PAGES:
        r = demo_client.get(path, headers={"accept-language": "de-DE,de;q=0.9,en;q=0.5"})
        expected = (german, '<html lang="de">', "die Ärztin oder der Arzt entscheidet.")
        if r.status_code != (status or [200])[0] or not all(text in r.text for text in expected):
            wrong.append(f"{path}: {r.status_code}, {german!r} expected")
    assert not wrong, "\n".join(wrong)


def test_error_page_in_german(demo_client: TestClient, sign_in: SignIn) -> None:
    sign_in(demo_client, "trainee")
    r = demo_client.get("/audit", headers={"accept": "text/html", "accept-language": "de"})
    assert r.status_code == 403 and "Das ist nicht möglich" in r.text and "Zurück" in r.text
