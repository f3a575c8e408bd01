// Render the math that pymdownx.arithmatex (generic mode) leaves as \( \) and \[ \],
// and the $ $ of notebook markdown cells, with the KaTeX vendored in docs/assets/katex.
// document$ is mkdocs-material's page-load stream, so this also runs after instant
// navigation.
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false },
      { left: "$", right: "$", display: false },
    ],
    throwOnError: false,
  });
});
