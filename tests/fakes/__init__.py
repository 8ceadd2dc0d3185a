"""Local stand-ins for the services outside this machine (WeChat's and Telegram's HTTP APIs),
served on loopback and following the platforms' documented request and answer shapes."""
