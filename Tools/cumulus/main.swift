print("cumulus")
