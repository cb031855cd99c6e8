"""What each role sees and may do within the routes it may use (SPEC 6, issue 8):
an issuer sees its own programme only (others' rows answer 404), a checkout
and a readonly token see codes masked in every media type and cannot filter on
them, and no response shows a link, embedded resource, action or form a role
could not use. On SQLite and PostgreSQL.
"""
from __future__ import annotations

import pytest
from lxml import etree, html

from auth_support import HAL, PLAIN, ROLES, secured  # noqa: F401 (fixture)

A, I, C, R = ROLES
SIREN = "application/vnd.siren+json"
HAL_XML = "application/hal+xml"
HTML = "text/html"
FULL = "kohls-gc-001"
MASKED = "••••••-001"


# -- an issuer's programme ---------------------------------------------------------

def test_an_issuer_lists_its_own_cards_products_issuer_and_ledger_only(secured):  # noqa: F811
    _, world, clients, _ = secured
    issuer = clients[I]
    assert sorted(card["card_id"] for card in issuer.get("/gift_cards", status=200).json) == [
        "kohls-gc-001", "kohls-gc-777"]
    assert [product["product_id"] for product in issuer.get("/products", status=200).json] == ["kohls-towel"]
    assert [row["name"] for row in issuer.get("/issuers", status=200).json] == ["Kohls"]
    entries = issuer.get("/transactions", status=200).json
    assert {entry["kind"] for entry in entries} == {"issue", "redeem"} and len(entries) == 3
    assert issuer.get("/gift_cards", status=200).headers["X-Total-Count"] == "2"


@pytest.mark.parametrize("url", ["/gift_cards/{gap_card}", "/gift_cards/{gap_card}/transactions",
                                 "/gift_cards/{gap_card}/history", "/products/{gap_product}",
                                 "/issuers/{gap}", "/issuers/{gap}/gift_cards", "/issuers/{gap}/products"])
def test_another_issuers_rows_answer_404_to_an_issuer(secured, url):  # noqa: F811
    _, world, clients, _ = secured
    url = url.format(**world.ids)
    response = clients[I].get(url, status=404)
    assert response.json["errors"][0]["logref"] == "not_found"
    assert "There is no" in response.json["errors"][0]["message"]
    clients[A].get(url, status=200)


def test_an_issuer_cannot_issue_or_price_for_another_issuer(secured):  # noqa: F811
    _, world, clients, _ = secured
    issuer = clients[I]
    response = issuer.post("/gift_cards", {"card_id": "sneaky", "issuer": "Gap", "balance": 5}, status=403)
    assert response.json["errors"][0]["field"] == "issuer"
    issuer.post("/products", {"product_id": "sneaky", "name": "x", "price": 1, "eligible_issuer": "Gap"},
                status=403)
    issuer.post("/issuers", {"name": "Hanes"}, status=403)
    issuer.post(f"/issuers/{world['gap']}/generate_codes", {"number_of_codes": 1}, status=404)
    issuer.post(f"/gift_cards/{world['gap_card']}/reload", {"amount": 5}, status=404)
    assert clients[A].get("/gift_cards?card_id=sneaky", status=200).json == []


def test_an_issuer_token_follows_its_issuer_to_a_new_name(secured):  # noqa: F811
    _, world, clients, _ = secured
    clients[A].patch(f"/issuers/{world['kohls']}", {"name": "Kohl's"}, status=200)
    assert [row["name"] for row in clients[I].get("/issuers", status=200).json] == ["Kohl's"]


# -- codes are secrets -----------------------------------------------------------

def _texts(response) -> str:
    return response.body.decode()


@pytest.mark.parametrize("media_type", [HAL, HAL_XML, SIREN, PLAIN, HTML])
@pytest.mark.parametrize("who", [C, R])
def test_codes_are_masked_for_checkout_and_readonly_in_every_media_type(secured, who, media_type):  # noqa: F811
    _, world, clients, _ = secured
    client = clients[who]
    card = f"/gift_cards/{world['kohls_card']}"
    pages = [card, f"/users/{world['user']}", f"/users/{world['user']}/gift_cards?zoom=transactions",
             f"/users?zoom=gift_cards", f"/users/{world['user']}/payment_options?product_id=kohls-towel",
             f"/gift_cards/{world['kohls_card']}/history", f"/transactions/{world['redemption']}",
             f"{card}/transactions?zoom=gift_card"]
    for url in pages:
        response = client.get(url, accept=media_type, status=200)
        assert FULL not in _texts(response), url
        assert "kohls-gc" not in _texts(response), url
    assert MASKED in _texts(client.get(card, accept=media_type, status=200))
    assert FULL in _texts(clients[A].get(card, accept=media_type, status=200))
    assert FULL in _texts(clients[I].get(card, accept=media_type, status=200))


@pytest.mark.parametrize("who", [C, R])
@pytest.mark.parametrize("query", ["card_id=kohls*", "card_id=kohls-gc-001", "card_id:in=kohls-gc-001",
                                   "card_id:greaterthan=k", "order=card_id", "order=card_id desc"])
def test_checkout_and_readonly_cannot_filter_or_order_on_codes(secured, who, query):  # noqa: F811
    _, world, clients, _ = secured
    url = f"/users/{world['user']}/gift_cards?{query}"
    response = clients[who].get(url, status=403)
    assert response.json["errors"][0]["logref"] == "forbidden_filter"
    clients[A].get(url, status=200)


@pytest.mark.parametrize("who", [C, R])
@pytest.mark.parametrize("query", ["gift_cards=kohls-gc-001", "gift_cards:not=kohls-gc-001",
                                   "zoom=gift_cards&gift_cards:card_id=kohls*"])
def test_users_cannot_be_searched_by_code_either(secured, who, query):  # noqa: F811
    _, _, clients, _ = secured
    clients[who].get(f"/users?{query}", status=403)


def test_a_masked_list_sent_back_keeps_the_users_cards(secured):  # noqa: F811
    _, world, clients, _ = secured
    checkout = clients[C]
    user = checkout.get(f"/users/{world['user']}", status=200).json
    assert user["gift_cards"] == [MASKED]
    user["name"] = "Steve S."
    replaced = checkout.request("PUT", f"/users/{world['user']}", user, status=200).json
    assert replaced["gift_cards"] == [MASKED] and replaced["name"] == "Steve S."
    assert clients[A].get(f"/users/{world['user']}", status=200).json["gift_cards"] == [FULL]


def test_error_messages_never_show_a_code_to_checkout(secured):  # noqa: F811
    _, world, clients, _ = secured
    clients[A].patch(f"/gift_cards/{world['kohls_card']}", {"status": "disabled"}, status=200)
    response = clients[C].post(f"/gift_cards/{world['kohls_card']}/redeem",
                               {"product_id": "kohls-towel", "user_id": "user005"}, status=409)
    assert "kohls-gc" not in response.text and MASKED in response.text
    admin = clients[A].post(f"/gift_cards/{world['kohls_card']}/redeem",
                            {"product_id": "kohls-towel", "user_id": "user005"}, status=409)
    assert FULL in admin.text


# -- what a response shows -------------------------------------------------------

def _siren_actions(document: dict) -> set[str]:
    return {action["name"] for action in document.get("actions", [])}


def _hal_rels(document: dict) -> set[str]:
    return set(document["_links"]) - {"curies"}


EXPECTED_CARD_RELS = {
    A: {"self", "fg:issuer", "fg:user", "fg:transactions", "fg:history", "fg:redeem", "fg:reload",
        "fg:holds", "fg:authorize", "fg:adjust"},
    I: {"self", "fg:issuer", "fg:transactions", "fg:history", "fg:reload", "fg:holds"},
    C: {"self", "fg:issuer", "fg:user", "fg:transactions", "fg:history", "fg:redeem", "fg:holds",
        "fg:authorize"},
    R: {"self", "fg:issuer", "fg:user", "fg:transactions", "fg:history", "fg:holds"},
}
EXPECTED_CARD_ACTIONS = {A: {"update", "delete", "redeem", "reload", "authorize", "adjust"},
                         I: {"update", "delete", "reload"}, C: {"redeem", "authorize"}, R: set()}


@pytest.mark.parametrize("who", ROLES)
def test_a_card_shows_each_role_only_the_links_and_actions_it_may_use(secured, who):  # noqa: F811
    _, world, clients, _ = secured
    url = f"/gift_cards/{world['kohls_card']}"
    assert _hal_rels(clients[who].get(url, accept=HAL, status=200).json) == EXPECTED_CARD_RELS[who]
    siren = clients[who].get(url, accept=SIREN, status=200).json
    assert _siren_actions(siren) == EXPECTED_CARD_ACTIONS[who]
    page = html.document_fromstring(clients[who].get(url, accept=HTML, status=200).body)
    assert {form.get("name") for form in page.iter("form") if "action" in (form.get("class") or "")} \
        == EXPECTED_CARD_ACTIONS[who]
    xml = etree.fromstring(clients[who].get(url, accept=HAL_XML, status=200).body)
    assert {link.get("rel").rsplit("/rels/", 1)[-1] for link in xml.iter("link")} == {
        rel.removeprefix("fg:") for rel in EXPECTED_CARD_RELS[who]}


@pytest.mark.parametrize("who", ROLES)
def test_every_link_a_role_is_shown_it_may_follow(secured, who):  # noqa: F811
    """A crawl from the home page: no link leads to a 401, 403 or 404 for the role."""
    app, world, clients, _ = secured
    client, seen, queue = clients[who], set(), ["/"]
    while queue and len(seen) < 120:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, accept=HAL, status="*")
        assert response.status_int == 200, f"{who}: {url} → {response.status_int} {response.text[:200]}"
        for href in _hal_hrefs(response.json):
            path = href.removeprefix("http://localhost:3000")
            if path not in seen and "/rels/" not in path:
                queue.append(path)
    assert len(seen) > 5


def _hal_hrefs(document):
    for rel, value in document.get("_links", {}).items():
        if rel == "curies":
            continue
        for link in value if isinstance(value, list) else [value]:
            if not link.get("templated"):
                yield link["href"]
    for value in document.get("_embedded", {}).values():
        for item in value if isinstance(value, list) else [value]:
            yield from _hal_hrefs(item)


@pytest.mark.parametrize("who,zoom,status", [(I, "user", 403), (C, "transactions", 200),
                                             (R, "user,issuer,transactions", 200)])
def test_zoom_into_what_a_role_may_not_read_is_refused(secured, who, zoom, status):  # noqa: F811
    _, world, clients, _ = secured
    url = ("/gift_cards" if who != C else f"/users/{world['user']}/gift_cards") + f"?zoom={zoom}"
    clients[who].get(url, status=status)


def test_home_links_each_role_to_what_it_may_use(secured):  # noqa: F811
    _, _, clients, _ = secured
    rels = {who: _hal_rels(clients[who].get("/", accept=HAL, status=200).json) for who in ROLES}
    assert "fg:gift_cards" in rels[A] and "fg:gift_cards" not in rels[C]
    assert "fg:card_lookup" in rels[C] and "fg:card_lookup" not in rels[R] and "fg:card_lookup" not in rels[I]
    assert "fg:users" not in rels[I] and "fg:users" in rels[R]
    assert "fg:changes" in rels[R] and "fg:changes" not in rels[C]


# -- spending proves possession of the code ----------------------------------------

def test_checkout_cannot_reach_an_unlinked_card_by_its_id(secured):  # noqa: F811
    _, world, clients, _ = secured
    loose = world["loose_card"]
    for url in (f"/gift_cards/{loose}", f"/gift_cards/{loose}/transactions"):
        clients[C].get(url, status=404)
    clients[C].post(f"/gift_cards/{loose}/redeem", {"product_id": "kohls-towel"}, status=404)
    assert clients[A].get(f"/gift_cards/{loose}", status=200).json["balance"] == 80


def test_a_look_up_by_code_lets_checkout_see_and_redeem_the_card(secured):  # noqa: F811
    _, world, clients, _ = secured
    checkout = clients[C]
    found = checkout.post("/card_lookup", {"card_id": "kohls-gc-777"}, accept=HAL, status=200)
    assert found.json["card_id"] == "••••••-777" and found.json["balance"] == 80
    redeem = found.json["_links"]["fg:redeem"]["href"].removeprefix("http://localhost:3000")
    assert found.headers["Content-Location"].endswith(f"/gift_cards/{world['loose_card']}")
    assert "kohls-gc-777" not in found.text and "kohls-gc-777" not in redeem
    entry = checkout.post(redeem, {"product_id": "kohls-towel"}, status=201).json
    assert entry["amount"] == -25 and entry["actor"] == {"name": "checkout", "role": "checkout"}
    checkout.get(f"/gift_cards/{world['loose_card']}", status=200)
    refund = checkout.post(f"/transactions/{entry['id']}/refund", {}, status=201).json
    assert refund["amount"] == 25


def test_a_look_up_of_an_unknown_code_is_404(secured):  # noqa: F811
    _, _, clients, _ = secured
    response = clients[C].post("/card_lookup", {"card_id": "nope-nope"}, status=404)
    assert "nope" not in response.json["errors"][0]["message"]


def test_checkout_redeems_a_linked_card_only_for_the_user_it_names(secured):  # noqa: F811
    _, world, clients, _ = secured
    url = f"/gift_cards/{world['kohls_card']}/redeem"
    response = clients[C].post(url, {"product_id": "kohls-towel"}, status=403)
    assert response.json["errors"][0]["field"] == "user_id"
    clients[C].post(url, {"product_id": "kohls-towel", "user_id": "user006"}, status=409)
    clients[C].post(url, {"product_id": "kohls-towel", "user_id": "nobody"}, status=422)
    clients[C].post(url, {"product_id": "kohls-towel", "user_id": "user005"}, status=201)


def test_linking_a_card_by_its_code_is_how_a_shopper_app_adds_it(secured):  # noqa: F811
    _, world, clients, _ = secured
    checkout = clients[C]
    user = checkout.patch(f"/users/{world['other_user']}", {"gift_cards": ["kohls-gc-777"]}, status=200).json
    assert user["gift_cards"] == ["••••••-777"]
    checkout.get(f"/gift_cards/{world['loose_card']}", status=200)
    failed = checkout.patch(f"/users/{world['other_user']}", {"gift_cards": ["guess-123"]}, status=422)
    assert failed.json["errors"][0]["field"] == "gift_cards"


# -- the audit trail ---------------------------------------------------------------

def test_every_change_records_its_actor(secured):  # noqa: F811
    _, world, clients, _ = secured
    card = f"/gift_cards/{world['kohls_card']}"
    clients[I].patch(card, {"status": "disabled"}, status=200)
    clients[I].patch(card, {"status": "active", "reference": "R1"}, status=200)
    history = clients[R].get(f"{card}/history", status=200).json
    assert [(change["action"], change["actor"]) for change in history] == [
        ("created", {"name": "admin", "role": "admin"}),
        ("disabled", {"name": "issuer:Kohls", "role": "issuer:Kohls"}),
        ("updated", {"name": "issuer:Kohls", "role": "issuer:Kohls"}),
    ]
    assert history[1]["changes"] == {"status": ["active", "disabled"]}
    assert history[2]["changes"] == {"status": ["disabled", "active"], "reference": [None, "R1"]}
    assert history[0]["changes"]["card_id"] == [None, MASKED]
    ledger = clients[A].get(f"{card}/transactions", status=200).json
    assert [entry["actor"]["name"] for entry in ledger] == ["admin", "admin"]
    links = clients[A].get(card, accept=HAL, status=200).json["_links"]
    assert links["fg:history"]["href"].endswith(f"{card}/history")


def test_linking_and_unlinking_are_in_the_cards_history(secured):  # noqa: F811
    _, world, clients, _ = secured
    clients[C].patch(f"/users/{world['user']}", {"gift_cards": []}, status=200)
    history = clients[A].get(f"/gift_cards/{world['kohls_card']}/history", status=200).json
    assert history[-1]["action"] == "unlinked" and history[-1]["actor"]["role"] == "checkout"
    assert history[-1]["changes"] == {"user_id": ["user005", None]}



def test_a_checkout_looks_up_pays_and_refunds_without_ever_seeing_a_full_code(secured):  # noqa: F811
    """Acceptance: look up a code → payment options → redeem → refund, by links from GET /."""
    _, _, clients, _ = secured
    checkout, seen = clients[C], []

    def call(method, href, body=None, status=200):
        response = checkout.request(method, href.removeprefix("http://localhost:3000"), body,
                                    accept=HAL, status=status)
        seen.append(response.text)
        return response.json

    home = call("GET", "/")
    card = call("POST", home["_links"]["fg:card_lookup"]["href"], {"card_id": "kohls-gc-777"})
    assert card["balance"] == 80 and card["status"] == "active"
    users = call("GET", home["_links"]["fg:users"]["href"] + "?user_id=user006")
    user = users["_embedded"]["fg:users"][0]
    call("PATCH", user["_links"]["self"]["href"], {"gift_cards": ["kohls-gc-777"]})  # the code typed
    template = user["_links"]["fg:payment_options"]["href"]
    options = call("GET", template.replace("{?product_id}", "?product_id=kohls-towel"))
    [option] = options["_embedded"]["fg:payment_options"]
    assert option["amount"] == 25
    entry = call("POST", option["_links"]["fg:redeem"]["href"],
                 {"product_id": "kohls-towel", "user_id": "user006"}, status=201)
    refund = call("POST", entry["_links"]["fg:refund"]["href"], {}, status=201)
    assert refund["amount"] == 25 and refund["balance_after"] == 80
    everything = "".join(seen)
    assert "kohls-gc-777" not in everything and "kohls-gc-001" not in everything
    assert "••••••-777" in everything


@pytest.mark.parametrize("query", ["zoom=gift_cards", "zoom=gift_cards&gift_cards:balance=80",
                                   "zoom=gift_cards&gift_cards:user_id:isdefined=false"])
def test_zooms_and_their_filters_see_only_what_the_principal_may(secured, query):  # noqa: F811
    """Kohls has a card linked to no one (80.00): a checkout can neither see it embedded
    nor learn of it by filtering on a zoomed child."""
    _, world, clients, _ = secured
    page = clients[C].get(f"/issuers?{query}", accept=HAL, status=200).json
    issuers = page["_embedded"]["fg:issuers"]
    if "gift_cards:" in query:
        assert issuers == [] and page["total_items"] == 0
    else:
        kohls = next(issuer for issuer in issuers if issuer["name"] == "Kohls")
        assert [card["balance"] for card in kohls["_embedded"]["fg:gift_cards"]] == [490]
    admin = clients[A].get(f"/issuers?{query}", accept=HAL, status=200).json
    assert admin["total_items"] >= 1
