"""The app's own JavaScript and TypeScript, read with tree-sitter: one parser module shared by the
code rules (``depaudit code``) and runtime reachability."""
