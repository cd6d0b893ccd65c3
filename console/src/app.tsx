/** The console's shell: landmarks, navigation, and the state the pages share. */
import { useEffect, useState } from "preact/hooks";
import { listModels, nodeOrigin } from "./api.js";
import { AgentsPage } from "./pages/agents.js";
import { ChatPage } from "./pages/chat.js";
import { MarketPage } from "./pages/market.js";
import { ModelsPage } from "./pages/models.js";
import { RecordPage } from "./pages/record.js";
import { UsagePage } from "./pages/usage.js";
import { VerifyPage } from "./pages/verify.js";
import { defaultNode, hashFor, loadApiKey, PAGES, parseHash, policyFrom, saveApiKey, type Page } from "./state.js";
import type { BrowserPolicy } from "./verify/report.js";
import type { NodeVerification } from "./verify/session.js";

function safeOrigin(text: string): string {
  try {
    return text ? nodeOrigin(text) : "";
  } catch {
    return "";
  }
}

export function App(): preact.JSX.Element {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseHash(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  const node = safeOrigin(defaultNode(route.params));
  const policy = policyFrom(route.params);
  const discovery = safeOrigin(route.params.get("discovery") ?? "") || node;
  const [apiKey, setApiKey] = useState(loadApiKey);
  const [verification, setVerification] = useState<NodeVerification | null>(null);
  const [models, setModels] = useState<string[]>([]);
  useEffect(() => {
    if (!node) return;
    listModels(node, apiKey || undefined).then((m) => setModels(m.map((x) => x.id)), () => setModels([]));
  }, [node, apiKey]);

  const go = (page: Page, n = node, p: BrowserPolicy = policy, extra: Record<string, string> = {}): void => {
    location.hash = hashFor(page, n, p, { ...(route.params.get("discovery") ? { discovery: route.params.get("discovery") as string } : {}), ...extra });
  };
  const page = route.page;
  return (
    <>
      {/* The hash is the router's: move focus without changing it. */}
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById("main")?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <p class="brand">Cloister console</p>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li>
                <a href={hashFor(p.id, node, policy)} aria-current={page === p.id ? "page" : undefined}>{p.label}</a>
              </li>
            ))}
          </ul>
        </nav>
        {node && <p class="current-node">Node: <code>{node}</code></p>}
      </header>
      <main id="main" tabIndex={-1}>
        {page === "verify" && <VerifyPage node={node} onNode={(n) => go("verify", safeOrigin(n))} policy={policy} onPolicy={(p) => go("verify", node, p)} onVerified={setVerification} />}
        {page === "chat" && <ChatPage node={node} policy={policy} apiKey={apiKey} models={models} />}
        {page === "market" && <MarketPage discovery={discovery} onDiscovery={(d) => go("market", node, policy, { discovery: safeOrigin(d) })} policy={policy} />}
        {page === "models" && <ModelsPage node={node} apiKey={apiKey} verification={verification} />}
        {page === "agents" && <AgentsPage node={node} apiKey={apiKey} />}
        {page === "usage" && <UsagePage node={node} apiKey={apiKey} onApiKey={(k) => (saveApiKey(k), setApiKey(k))} />}
        {page === "record" && <RecordPage encoded={route.params.get("r") ?? ""} />}
      </main>
      <footer class="foot">
        <p>Every check on these pages runs in your browser. This page talks only to the nodes you name, through their public API.</p>
      </footer>
    </>
  );
}
