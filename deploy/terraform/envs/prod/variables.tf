variable "environment" {
  description = "Environment name (resource prefix vms-ENV, tag Environment)"
  type        = string
  default     = "prod"
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "azs" {
  type    = list(string)
  default = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

variable "vpc_cidr" {
  type    = string
  default = "10.40.0.0/16"
}

variable "single_nat_gateway" {
  type    = bool
  default = false
}

variable "extra_tags" {
  description = "Tags added to every resource of this environment (Owner, CostCenter ...)"
  type        = map(string)
  default     = {}
}

variable "image_tag" {
  description = "Commit SHA of the vmsd and nginx images to run (set by the deploy workflow)"
  type        = string
}

variable "alb_certificate_arn" {
  type = string
}

variable "cloudfront_certificate_arn" {
  description = "ACM certificate in us-east-1 for site_aliases"
  type        = string
}

variable "origin_domain_name" {
  description = "DNS name of the ALB covered by alb_certificate_arn (CloudFront's origin)"
  type        = string
}

variable "site_aliases" {
  type = list(string)
}

variable "recordings_retention_days" {
  type    = number
  default = 30
}

variable "detections_retention_days" {
  type    = number
  default = 90
}

variable "backups_retention_days" {
  type    = number
  default = 35
}

variable "rds_instance_class" {
  type    = string
  default = "db.m7g.large"
}

variable "rds_multi_az" {
  type    = bool
  default = true
}

variable "redis_node_type" {
  type    = string
  default = "cache.m7g.large"
}

variable "redis_nodes" {
  type    = number
  default = 2
}

variable "kafka_brokers" {
  type    = number
  default = 3
}

variable "kafka_instance_type" {
  type    = string
  default = "kafka.m7g.large"
}

variable "vmsd_count" {
  description = "vmsd tasks: 1 until vmsd nodes share cameras (issue #17)"
  type        = number
  default     = 1
  validation {
    condition     = var.vmsd_count == 1
    error_message = "vmsd_count: vmsd does not split cameras between tasks yet (issue #17); more than one task would record every camera twice."
  }
}

variable "nginx_count" {
  type    = number
  default = 2
}

variable "alarm_emails" {
  type    = list(string)
  default = []
}

variable "ai_cost_usd_per_day" {
  type    = number
  default = 5
}

variable "dr_backup_vault_arn" {
  description = "Backup vault in the DR region (empty: no cross-region copy)"
  type        = string
  default     = ""
}

variable "deletion_protection" {
  type    = bool
  default = true
}
