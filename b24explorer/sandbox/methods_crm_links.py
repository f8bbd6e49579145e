"""REST v2 CRM relations: contact/company links of deals, leads, contacts and companies, and product rows.

Links follow `api-reference/crm/deals/contacts/*` (and the lead, contact and company pages of the same
form); product rows follow `crm-deal-productrows-get.md` / `-set.md`.
"""

from __future__ import annotations

from typing import Any

from .registry import Answer, ApiError, Ctx, as_int, as_list, truthy, v2
from .schema import Field
from .store import Table

NOT_FOUND = ApiError(400, "", "Not found.")

# owner entity -> (linked entity, its id key, the owner's column that holds the primary link)
LINKS = {
    ("deal", "contact"): ("CONTACT_ID", "CONTACT_ID"),
    ("lead", "contact"): ("CONTACT_ID", "CONTACT_ID"),
    ("contact", "company"): ("COMPANY_ID", "COMPANY_ID"),
    ("company", "contact"): ("CONTACT_ID", None),
}
_LINK_FIELDS = [Field("SORT", "integer", "Sorting"), Field("IS_PRIMARY", "char", "Primary")]


def _owner_table(ctx: Ctx, owner: str) -> Table:
    return {"deal": ctx.portal.store.deals, "lead": ctx.portal.store.leads, "contact": ctx.portal.store.contacts,
            "company": ctx.portal.store.companies}[owner]


def _owner_id(ctx: Ctx, owner: str, quoted: bool) -> int:
    number = as_int(ctx.param("id"))
    if number is None or number < 1:
        name = "'ownerEntityID'" if quoted else "ownerEntityID"
        raise ApiError(400, "", f"The parameter {name} is invalid or not defined.")
    if _owner_table(ctx, owner).get(number) is None:
        raise NOT_FOUND
    return number


def _current(ctx: Ctx, owner: str, target: str, owner_id: int) -> list[dict[str, Any]]:
    """The owner's links; before any were set, the one its primary column names (seeded data)."""
    key = (owner, owner_id, target)
    links = ctx.portal.store.links
    if key in links:
        return [dict(link) for link in links[key]]
    id_key, column = LINKS[(owner, target)]
    if column is None:  # a company's contacts are the contacts that name it
        contacts = ctx.portal.store.contacts
        ids = [int(r["ID"]) for r in contacts if r.get("COMPANY_ID") == str(owner_id)]
        return [{id_key: i, "SORT": 10 * (n + 1), "ROLE_ID": 0, "IS_PRIMARY": "Y" if n == 0 else "N"}
                for n, i in enumerate(ids)]
    value = as_int(_owner_table(ctx, owner).rows[owner_id].get(column))
    return [{id_key: value, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}] if value else []


def _normalise(ctx: Ctx, target: str, id_key: str, items: list[Any]) -> list[dict[str, Any]]:
    """Sorted links with one primary (the first, unless one is marked), SORT counted on where missing."""
    table = _owner_table(ctx, target)
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            raise ApiError(400, "", "The parameter 'fields' is not valid.")
        upper = {str(k).upper(): v for k, v in item.items()}
        linked = as_int(upper.get(id_key))
        if linked is None or linked < 1 or table.get(linked) is None:
            raise ApiError(400, "", "The parameter 'fields' is not valid.")
        out = [link for link in out if link[id_key] != linked]
        sort = as_int(upper.get("SORT"))
        out.append({id_key: linked, "SORT": sort if sort is not None else 10 * (len(out) + 1), "ROLE_ID": 0,
                    "IS_PRIMARY": "Y" if truthy(upper.get("IS_PRIMARY", False)) else "N"})
    out.sort(key=lambda link: link["SORT"])
    primaries = [link for link in out if link["IS_PRIMARY"] == "Y"]
    for link in out:
        link["IS_PRIMARY"] = "N"
    if out:
        (primaries[-1] if primaries else out[0])["IS_PRIMARY"] = "Y"
    return out


def _store_links(ctx: Ctx, owner: str, target: str, owner_id: int, links: list[dict[str, Any]]) -> None:
    id_key, column = LINKS[(owner, target)]
    ctx.portal.store.set_links((owner, owner_id, target), links)
    if column is not None:
        primary = next((link[id_key] for link in links if link["IS_PRIMARY"] == "Y"), None)
        _owner_table(ctx, owner).update(owner_id, {column: None if primary is None else str(primary)})
    ctx.wrote()


def _register_links(owner: str, target: str) -> None:
    prefix = f"crm.{owner}.{target}"
    id_key, _ = LINKS[(owner, target)]
    fields = [Field(id_key, "integer", "Contact" if target == "contact" else "Company", required=True),
              *_LINK_FIELDS]

    def fields_(ctx: Ctx) -> Answer:
        return Answer({f.name: {"type": f.type, "isRequired": f.required, "isReadOnly": False, "isImmutable": False,
                                "isMultiple": False, "isDynamic": False, "title": f.title} for f in fields})

    def items_get(ctx: Ctx) -> Answer:
        return Answer(_current(ctx, owner, target, _owner_id(ctx, owner, quoted=False)))

    def items_set(ctx: Ctx) -> Answer:
        owner_id = _owner_id(ctx, owner, quoted=False)
        items = ctx.param("items")
        if isinstance(items, dict):
            items = list(items.values())
        if not isinstance(items, list):
            raise ApiError(400, "", "The parameter items must be array.")
        _store_links(ctx, owner, target, owner_id, _normalise(ctx, target, id_key, items))
        return Answer(True)

    def items_delete(ctx: Ctx) -> Answer:
        _store_links(ctx, owner, target, _owner_id(ctx, owner, quoted=False), [])
        return Answer(True)

    def one_link(ctx: Ctx, not_object: str) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
        """(owner id, the `fields` object with upper-case keys, the current links) of add/delete."""
        owner_id = _owner_id(ctx, owner, quoted=True)
        item = ctx.param("fields")
        if not isinstance(item, dict):
            raise ApiError(400, "", f"The parameter '{not_object}' must be array.")
        return owner_id, {str(k).upper(): v for k, v in item.items()}, _current(ctx, owner, target, owner_id)

    def add(ctx: Ctx) -> Answer:
        owner_id, item, links = one_link(ctx, "fields")
        if truthy(item.get("IS_PRIMARY", False)):
            for link in links:
                link["IS_PRIMARY"] = "N"
        _store_links(ctx, owner, target, owner_id, _normalise(ctx, target, id_key, [*links, item]))
        return Answer(True)

    def delete(ctx: Ctx) -> Answer:
        owner_id, item, links = one_link(ctx, "item")
        linked = as_int(item.get(id_key))
        if linked is None or all(link[id_key] != linked for link in links):
            raise ApiError(400, "", "The parameter 'fields' is not valid.")
        kept = [link for link in links if link[id_key] != linked]
        _store_links(ctx, owner, target, owner_id, _normalise(ctx, target, id_key, kept) if kept else [])
        return Answer(True)

    v2(f"{prefix}.fields", "crm", cost=0.005)(fields_)
    v2(f"{prefix}.items.get", "crm", cost=0.01)(items_get)
    v2(f"{prefix}.items.set", "crm", cost=0.02, write=True)(items_set)
    v2(f"{prefix}.items.delete", "crm", cost=0.02, write=True)(items_delete)
    v2(f"{prefix}.add", "crm", cost=0.02, write=True)(add)
    v2(f"{prefix}.delete", "crm", cost=0.02, write=True)(delete)


for _owner, _target in LINKS:
    _register_links(_owner, _target)


# --- product rows ---------------------------------------------------------------------------------------

_OWNER_TYPES = {"deal": "D", "lead": "L"}
_NUMBERS = ("PRICE", "PRICE_EXCLUSIVE", "PRICE_NETTO", "PRICE_BRUTTO", "QUANTITY", "DISCOUNT_RATE", "DISCOUNT_SUM",
            "TAX_RATE")


def _product_row(ctx: Ctx, owner: str, owner_id: int, raw: Any, sort: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ApiError(400, "", "The parameter rows must be array.")
    data = {str(k).upper(): v for k, v in raw.items()}
    discount_type = as_int(data.get("DISCOUNT_TYPE_ID"), 2)
    if discount_type == 2 and "DISCOUNT_RATE" in data and float(data["DISCOUNT_RATE"] or 0) == 100 \
            and data.get("DISCOUNT_SUM") in (None, ""):
        raise ApiError(400, "ERROR_CORE", "Discount Sum (DISCOUNT_SUM) is required if Percentage Discount Type "
                                          "(DISCOUNT_TYPE_ID) is defined and Discount Rate (DISCOUNT_RATE) is 100%<br>")
    if discount_type == 1 and "DISCOUNT_TYPE_ID" in data and data.get("DISCOUNT_SUM") in (None, ""):
        raise ApiError(400, "ERROR_CORE", "Discount Sum (DISCOUNT_SUM) is required if Monetary Discount Type "
                                          "(DISCOUNT_TYPE_ID) is defined<br>")
    price = float(data.get("PRICE") or 0)
    numbers = {k: float(data[k]) for k in _NUMBERS if data.get(k) not in (None, "")}
    rate = numbers.get("DISCOUNT_RATE", 0.0)
    netto = numbers.get("PRICE_NETTO", price / (1 - rate / 100) if rate < 100 and discount_type == 2 else price)
    return {
        "ID": ctx.portal.store.product_row_id(), "OWNER_ID": str(owner_id), "OWNER_TYPE": _OWNER_TYPES[owner],
        "PRODUCT_ID": as_int(data.get("PRODUCT_ID"), 0), "PRODUCT_NAME": str(data.get("PRODUCT_NAME") or ""),
        "ORIGINAL_PRODUCT_NAME": str(data.get("PRODUCT_NAME") or ""), "PRODUCT_DESCRIPTION": None,
        "PRICE": price, "PRICE_EXCLUSIVE": numbers.get("PRICE_EXCLUSIVE", price), "PRICE_NETTO": netto,
        "PRICE_BRUTTO": numbers.get("PRICE_BRUTTO", price), "PRICE_ACCOUNT": f"{price:.2f}",
        "QUANTITY": numbers.get("QUANTITY", 1.0), "DISCOUNT_TYPE_ID": discount_type, "DISCOUNT_RATE": rate,
        "DISCOUNT_SUM": numbers.get("DISCOUNT_SUM", round(netto - price, 2)), "TAX_RATE": numbers.get("TAX_RATE"),
        "TAX_INCLUDED": "Y" if truthy(data.get("TAX_INCLUDED", False)) else "N",
        "CUSTOMIZED": "Y", "MEASURE_CODE": as_int(data.get("MEASURE_CODE"), 796),
        "MEASURE_NAME": str(data.get("MEASURE_NAME") or "pcs"), "SORT": as_int(data.get("SORT"), sort),
        "XML_ID": None, "TYPE": 1, "STORE_ID": 0, "RESERVE_ID": None, "DATE_RESERVE_END": None,
        "RESERVE_QUANTITY": None,
    }


def _register_product_rows(owner: str) -> None:
    def owner_id(ctx: Ctx) -> int:
        number = as_int(ctx.param("id"))
        if number is None or number < 1:
            raise ApiError(400, "", "The parameter id is invalid or not defined.")
        if _owner_table(ctx, owner).get(number) is None:
            raise NOT_FOUND
        return number

    def get(ctx: Ctx) -> Answer:
        return Answer([dict(r) for r in ctx.portal.store.links.get((owner, owner_id(ctx), "productrows"), [])])

    def set_(ctx: Ctx) -> Answer:
        number = owner_id(ctx)
        rows = as_list(ctx.param("rows"))
        made = [_product_row(ctx, owner, number, raw, 10 * (i + 1)) for i, raw in enumerate(rows)]
        ctx.portal.store.set_links((owner, number, "productrows"), made)
        if made:
            total = sum(r["PRICE"] * r["QUANTITY"] for r in made)
            _owner_table(ctx, owner).update(number, {"OPPORTUNITY": f"{total:.2f}"})
        ctx.wrote()
        return Answer(True)

    v2(f"crm.{owner}.productrows.get", "crm", cost=0.01)(get)
    v2(f"crm.{owner}.productrows.set", "crm", cost=0.05, write=True)(set_)


for _owner in _OWNER_TYPES:
    _register_product_rows(_owner)
