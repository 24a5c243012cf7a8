/*
 * ShopDesk chat widget: the one file a shop embeds (docs/web.md, "The chat widget"):
 *
 *   <script type="module" src="http://HOST:PORT/widget.js" data-title="Luma assistant"></script>
 *   optional: data-title="Luma assistant"  data-open="true"
 *
 * The widget itself is native ES modules under /static/widget/ (no build step); this entry
 * only finds its own tag, reads its data-* options and imports them from the origin it came
 * from. It has no import statement of its own, so the tag may also be a classic
 * `<script src=… defer>` (as shops embedded it before): it works either way.
 */
(function () {
  "use strict";

  if (window.ShopDeskWidget) return; // the tag is on the page twice

  /** This file's tag: `currentScript` for a classic tag; a module has none, so look for it. */
  function ownScript() {
    if (document.currentScript) return document.currentScript;
    const scripts = document.querySelectorAll("script[src]");
    for (let i = scripts.length - 1; i >= 0; i--) {
      if (/\/widget\.js([?#]|$)/.test(scripts[i].src)) return scripts[i];
    }
    return null;
  }

  const script = ownScript();
  const attribute = (name) => (script && script.hasAttribute(name) ? script.getAttribute(name) : null);
  const origin = new URL(script ? script.src : "/widget.js", window.location.href).origin;
  const options = { origin: origin, title: attribute("data-title"), open: attribute("data-open") };

  // Until the modules are loaded, open() and close() are remembered for when they are.
  const early = { openOnInit: false };
  window.ShopDeskWidget = {
    open: function () {
      early.openOnInit = true;
    },
    close: function () {
      early.openOnInit = false;
    },
    sessionId: function () {
      return null;
    },
  };

  import(origin + "/static/widget/main.js").then(
    function (widget) {
      window.ShopDeskWidget = widget.start(options, early.openOnInit);
    },
    function (error) {
      console.error("ShopDesk: the chat widget could not be loaded", error);
    }
  );
})();
