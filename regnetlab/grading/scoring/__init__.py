"""The trusted side: never imports a submission; measures and scores."""
