"""Missed-order claims (contract section 10).

A shopper who bought but got no cashback asks the partner, who files a claim against the
click the shopper came through; the store accepts it (the conversion is recorded, source
`claim`) or declines it with a reason; operators can decide on the store's behalf.

- `models`: `Claim` and its history, `ClaimChange`.
- `payloads`: the declarations of the filing and deciding bodies.
- `services`: `file_claim`, `decide_claim` (`accept_claim`, `decline_claim`).
- `selectors`: `claim_document` and the lists partners and stores page through.
- `views`, `docs`: both APIs' claim calls and their OpenAPI description.
- `admin`: open claims by age in the back office, decided through the same services.
"""
