# The environment's inputs. Those without a default differ between environments and are set in
# envs/ENV/ENV.tfvars (sizes, network, retention); deployment-specific ones (certificates, names,
# e-mails) in envs/ENV/terraform.tfvars from its .example. See deploy/terraform/README.md.
variable "environment" {
  description = "Environment name (resource prefix vms-ENV, tag Environment)"
  type        = string
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "azs" {
  type    = list(string)
}

variable "vpc_cidr" {
  type    = string
}

variable "single_nat_gateway" {
  type    = bool
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
}

variable "detections_retention_days" {
  type    = number
}

variable "backups_retention_days" {
  type    = number
}

variable "rds_instance_class" {
  type    = string
}

variable "rds_multi_az" {
  type    = bool
}

variable "redis_node_type" {
  type    = string
}

variable "redis_nodes" {
  type    = number
}

variable "kafka_brokers" {
  type    = number
}

variable "kafka_instance_type" {
  type    = string
}

variable "vmsd_count" {
  description = "vmsd tasks: nodes of one vmsd cluster (cluster = on; consumer group vms-recorders, leases in ElastiCache, recordings on the shared EFS; docs/scale-out.md)"
  type        = number
  default     = 1
  validation {
    condition     = var.vmsd_count >= 1 && var.vmsd_count <= 24
    error_message = "vmsd_count: 1 to 24 tasks (the partitions of vms.cameras bound the nodes that get cameras; docs/scale-out.md)."
  }
}

variable "nginx_count" {
  type    = number
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
}
