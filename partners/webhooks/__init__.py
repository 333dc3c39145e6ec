"""Partner webhooks: endpoints, the transactional outbox of deliveries, and sending them."""
