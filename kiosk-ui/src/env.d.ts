/** URL of the terminal's stylesheet (xterm.css + ours), set by build.mjs: loaded with the terminal chunk. */
declare const __TERMINAL_CSS__: string;
