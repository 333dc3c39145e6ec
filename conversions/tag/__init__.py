"""The browser tag: everything a store's pages load from Retrack or send to it.

- `retrack.js`: the tag itself, served at GET /track/v2/retrack.js;
- `views.py`: that script, the conversion beacon (POST /track/v2/conversion) and the
  `<noscript>` pixel (GET /track/v2/pixel);
- `parsing.py`: reading a beacon's body or a pixel's query into a report, and its page;
- `throttling.py`: reports accepted per minute per address and per click;
- `services.py`: storing a report through the store API's own service;
- `snippets.py`: the copy-paste snippets the back office shows per program (their
  templates are in templates/tag/snippets/).
"""
