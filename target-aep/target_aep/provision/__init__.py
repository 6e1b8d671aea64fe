"""`target-aep-provision`: create, find and evolve the AEP objects the target delivers to."""
