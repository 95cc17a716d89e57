"""Chain access: the local Anvil devnet, deployment, and typed clients for the TrustRegistry and StatusRegistry."""
