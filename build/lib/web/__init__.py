"""The web server: who may connect and how (sign-in, accounts, roles, REST API, rate limits, security
headers, health, the push gateway). ``dashboard/`` is what the screens draw."""
