"""depaudit code: the classic leak patterns in the app's own JavaScript and TypeScript."""
