// Who signs a governance transaction: the member's keystore on their node (the passphrase goes
// with that one request and its field is emptied), or the browser's own wallet (EIP-1193), which
// signs an unsigned transaction the node prepared and simulated, so a refusal is said in words
// before the wallet asks anything.
import { api } from "/app/common.js";

const POLL_MS = 1000;

export function walletPresent() {
  return typeof window.ethereum === "object" && window.ethereum !== null && typeof window.ethereum.request === "function";
}

function signer() {
  const chosen = document.querySelector("input[name=signer]:checked");
  return chosen && chosen.value === "wallet" && walletPresent() ? "wallet" : "keystore";
}

function takePassphrase(field) {
  const value = field.value;
  field.value = ""; // asked for each action, never kept
  if (!value) throw new Error("type your keystore passphrase first (it signs this one transaction)");
  return value;
}

function walletProblem(error) {
  if (error && error.code === 4001) return new Error("you declined the transaction in your wallet");
  if (error && error.code === 4100) return new Error("your wallet did not let this page use the account");
  return error instanceof Error ? error : new Error(String((error && error.message) || error));
}

async function ask(method, params) {
  try {
    return await window.ethereum.request(params === undefined ? { method } : { method, params });
  } catch (error) {
    throw walletProblem(error);
  }
}

async function mined(tx, progress) {
  progress(`sent ${tx.slice(0, 12)}…, waiting for the chain to include it`);
  for (;;) {
    const outcome = await api("GET", `/v1/gov/transactions/${tx}`);
    if (outcome.state === "mined") return outcome;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function viaWallet(path, body, progress) {
  const [account] = await ask("eth_requestAccounts");
  if (!account) throw new Error("your wallet shared no account with this page");
  const prepared = await api("POST", path.replace("/v1/gov/", "/v1/gov/wallet/"), { ...body, account });
  const chain = parseInt(await ask("eth_chainId"), 16);
  if (chain !== prepared.chain_id) {
    throw new Error(`your wallet is on chain ${chain}, the community on chain ${prepared.chain_id}: switch the wallet first`);
  }
  progress("confirm the transaction in your wallet");
  const tx = await ask("eth_sendTransaction", [prepared.transaction]);
  return mined(tx, progress);
}

// Sends one governance transaction (path under /v1/gov/, body without signer fields) and answers
// what the node answered: {number, tx, block, ...}. ``passField`` is the passphrase input to use.
export async function transact(path, body, passField, progress = () => {}) {
  if (signer() === "wallet") return viaWallet(path, body, progress);
  progress("sending the transaction…");
  return api("POST", path, { ...body, passphrase: takePassphrase(passField) });
}

// Shows the signer choice: the wallet only where the browser has one, the passphrase only for
// the keystore.
export function wireSigner() {
  const wallet = document.getElementById("signer-wallet");
  const note = document.getElementById("gov-wallet-note");
  wallet.disabled = !walletPresent();
  note.textContent = walletPresent()
    ? "Your wallet signs and pays for the transaction; it must be on the community's chain."
    : "This browser has no wallet (EIP-1193); your node's keystore signs.";
  const show = () => {
    const keystore = signer() === "keystore";
    for (const part of document.querySelectorAll(".keystore-only")) part.hidden = !keystore;
    for (const field of document.querySelectorAll(".keystore-only input")) field.required = keystore && field.dataset.required === "yes";
  };
  for (const choice of document.querySelectorAll("input[name=signer]")) choice.addEventListener("change", show);
  show();
}
