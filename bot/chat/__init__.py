"""Chat: the one grammar and the one answering function shared by Slack, Teams and `obsession ask`."""
