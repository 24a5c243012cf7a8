// eslint for the console and the widget (`make lint`: cd web && npx --no-install eslint static).
// Both are native ES modules in the browser, without a build step: eslint's recommended rules,
// browser globals, sourceType module. The vendor bundles are served from node_modules, not here.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
  },
];
