"""Custom actions served by rasa_sdk (`python -m actions.server`, which asks for the shared secret).

rasa_sdk imports every module of this package and registers each concrete `Action`. One module
per conversation area; each stays thin: it calls the catalog or the shop's records and builds
replies.

- products, product_details, recommendations, search_state, product_cards: shopping
- verification: proving an order number and its e-mail before any order task
- orders, returns: tracking, refunds, invoices, cancelling, address changes, returns
- account, feedback: deleting an account, the newsletter, complaints, reviews
- shop_answers: delivery, payment, account and policy questions from shop.yml
- handoff: offering and handing over to a person, the two-stage fallback, stopping a task
- forms: what every form shares (free-text answers that do not swallow a change of topic)
"""
