"""The MCP server: ai-session's sessions for any MCP client (Claude Code, Codex, VS Code, Cursor, Neovim agents)."""
