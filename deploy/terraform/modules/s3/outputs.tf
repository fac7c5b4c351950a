output "bucket_names" {
  description = "Bucket name by kind (recordings, detections, backups)"
  value       = { for k, b in aws_s3_bucket.this : k => b.bucket }
}

output "bucket_arns" {
  value = { for k, b in aws_s3_bucket.this : k => b.arn }
}
