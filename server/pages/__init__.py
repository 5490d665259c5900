"""The toolkit every office page is built with (docs/architecture.md, "Building a page").

- `render.py`: the Jinja environment (built once, in `create_app`) and `render()`, which
  speaks the reader's one language and always passes `viewer`, `csrf` and the helpers `_`,
  `L`, `pick`, `show`, `label`;
- `guard.py`: `@page` (login required; the handler gets a `Viewer` with its `Scope`),
  `checked_form` (CSRF), `page_number`, `form_text`;
- `lang.py`: which language a request reads;
- `format.py`: how values read on a page (dates in Beijing time, answers, hours, percents).

Page routes live in `server/routes/` beside the API's, and read like them: parse, call one
service, render.
"""
