import "./styles.css";
import "./landing.css";

// The examples name this server, wherever it is reached.
for (const element of document.querySelectorAll("[data-origin]")) element.textContent = location.origin;
