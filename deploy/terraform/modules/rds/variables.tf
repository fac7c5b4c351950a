variable "name" {
  description = "Name prefix of every resource (vms-ENV)"
  type        = string
}

variable "tags" {
  description = "Tags of every taggable resource (on top of the provider default_tags)"
  type        = map(string)
  default     = {}
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  description = "Private subnets of the DB subnet group"
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect (the ECS tasks)"
  type        = list(string)
}

variable "instance_class" {
  type    = string
  default = "db.t4g.medium"
}

variable "allocated_storage_gb" {
  type    = number
  default = 50
}

variable "multi_az" {
  type    = bool
  default = true
}

variable "backup_retention_days" {
  description = "RDS automated backups (point-in-time recovery window)"
  type        = number
  default     = 7
}

variable "deletion_protection" {
  type    = bool
  default = true
}
