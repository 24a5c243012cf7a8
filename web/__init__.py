"""ShopDesk web: the shopper chat widget, the agent console and handing conversations over."""
