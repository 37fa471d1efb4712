export default {
  // Caching Patterns (POCs #1-2)
  "redis-cache-aside": "1️⃣ Cache-Aside Pattern",
  "cache-stampede-protection": "2️⃣ Cache Stampede Protection",

  // Queues & Traffic Control (POCs #3-5)
  "redis-reliable-queue": "3️⃣ Reliable Job Queue",
  "redis-token-bucket-rate-limiter": "4️⃣ Token Bucket Rate Limiting",
  "idempotent-queue-consumers": "5️⃣ Idempotent Queue Consumers"
}
