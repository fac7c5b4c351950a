# Buckets: recordings (segments exported/archived by vmsd), detections (snapshots and metadata of
# the AI pipeline), backups (database dumps, versioned). Private, encrypted, TLS only; lifecycle
# rules expire objects after the retention of each kind.
locals {
  buckets = {
    recordings = { expire_days = var.recordings_retention_days, ia_days = var.recordings_ia_days }
    detections = { expire_days = var.detections_retention_days, ia_days = 0 }
    backups    = { expire_days = var.backups_retention_days, ia_days = 30 }
  }
}

# Bucket names are global: the account id makes them unique per account.
data "aws_caller_identity" "current" {}

resource "aws_s3_bucket" "this" {
  for_each      = local.buckets
  bucket        = "${var.name}-${each.key}-${data.aws_caller_identity.current.account_id}"
  force_destroy = false
  tags          = merge(var.tags, { Data = each.key })
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = aws_s3_bucket.this
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

# Backups are versioned (AWS Backup of S3 requires it; an overwritten dump stays restorable).
resource "aws_s3_bucket_versioning" "backups" {
  bucket = aws_s3_bucket.this["backups"].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [each.value.arn, "${each.value.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

resource "aws_s3_bucket_lifecycle_configuration" "recordings" {
  bucket = aws_s3_bucket.this["recordings"].id
  rule {
    id     = "recordings-retention"
    status = "Enabled"
    filter {}
    dynamic "transition" {
      for_each = var.recordings_ia_days > 0 && var.recordings_ia_days < var.recordings_retention_days ? [1] : []
      content {
        days          = var.recordings_ia_days
        storage_class = "STANDARD_IA"
      }
    }
    expiration {
      days = var.recordings_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "detections" {
  bucket = aws_s3_bucket.this["detections"].id
  rule {
    id     = "detections-retention"
    status = "Enabled"
    filter {}
    expiration {
      days = var.detections_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "backups" {
  bucket     = aws_s3_bucket.this["backups"].id
  depends_on = [aws_s3_bucket_versioning.backups]
  rule {
    id     = "backups-retention"
    status = "Enabled"
    filter {}
    transition {
      days          = 30
      storage_class = "GLACIER_IR"
    }
    expiration {
      days = var.backups_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.backups_retention_days
    }
  }
}
