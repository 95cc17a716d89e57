// Hardhat Network, the second EVM node the ledger tests run on (MICROCRED_TEST_NODE=hardhat, tests/evm_nodes.py).
// Chain id and dev accounts as Anvil's (the "test test ... junk" mnemonic); the Cancun rules the contracts are
// compiled for (ledger/compile.py); every block mined at once, as Anvil does. Hardhat's cache goes to the
// directory the tests give it, never into the source tree.
module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "cancun",
      mining: { auto: true, interval: 0 },
    },
  },
  paths: {
    sources: process.env.MICROCRED_HARDHAT_WORK_DIR + "/sources",
    cache: process.env.MICROCRED_HARDHAT_WORK_DIR + "/cache",
    artifacts: process.env.MICROCRED_HARDHAT_WORK_DIR + "/artifacts",
  },
};
