export default {
  // Caching
  "caching-strategies": "🟡 Caching Strategies"
}
