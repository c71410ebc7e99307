import { render } from "preact";
import { App } from "./App";
import { loadConfig } from "./config";
import "./styles.css";

const root = document.getElementById("root")!;

loadConfig()
  .then((config) => render(<App config={config} />, root))
  .catch((error) => {
    root.innerHTML = "";
    const box = document.createElement("p");
    box.className = "alert boot";
    box.textContent = `CineWeave could not start: ${error.message}`;
    root.append(box);
  });
